//! The built-in responder: answers from the site's text blocks by phrase
//! and keyword matching. A block's title and shortcut say what it answers
//! (FAQ entries are text blocks whose title is the question); its body is
//! the answer. When nothing matches well enough it says so and offers a
//! human.

use std::collections::BTreeSet;

use futures::future::BoxFuture;

use super::{Answer, Question, Responder, ResponderError};

/// What it says when the visitor asks for a person.
pub const HANDING_OVER: &str = "Of course. I've asked a colleague to join; they will answer here shortly.";
/// What it says when it does not know.
pub const DONT_KNOW: &str = "I'm sorry, I don't know the answer to that. \
    I've asked a human colleague to help; they will answer here shortly.";

/// Score a block needs before its body is given as the answer.
const THRESHOLD: usize = 3;

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "you", "your", "can", "how", "what", "when", "where", "who", "why", "does", "did",
    "have", "has", "with", "this", "that", "there", "from", "about", "into", "will", "would", "could", "should", "our",
    "was", "were", "any", "not", "but", "its", "it's", "i'm", "me", "my", "is", "do", "to", "of", "in", "on", "a",
    "an", "or", "be", "it", "we", "us", "at", "by", "if", "so", "hi", "hello", "please", "thanks",
];

const HUMAN_WORDS: &[&str] = &[
    "human",
    "person",
    "agent",
    "someone",
    "representative",
    "operator",
    "people",
];

/// The built-in responder (posts as `bot:builtin`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Builtin;

impl Responder for Builtin {
    fn name(&self) -> &str {
        "builtin"
    }

    /// It matches the question alone: no history is read for it.
    fn history_turns(&self) -> usize {
        0
    }

    fn respond<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<Answer, ResponderError>> {
        Box::pin(async move { Ok(answer(question)) })
    }
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| w.chars().count() >= 2 && !STOPWORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect()
}

/// A crude stem: plural `s` off, so "returns" matches "return".
fn stem(word: &str) -> String {
    match word.strip_suffix('s') {
        Some(stem) if stem.chars().count() >= 3 && !stem.ends_with('s') => stem.to_owned(),
        _ => word.to_owned(),
    }
}

fn phrase(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The answer to `question`: the best matching block's body, or an honest
/// "I don't know" that hands over to a human.
pub fn answer(question: &Question) -> Answer {
    let asked = words(&question.text);
    if HUMAN_WORDS.iter().any(|w| asked.contains(*w)) {
        return Answer {
            body: HANDING_OVER.into(),
            hand_over: true,
        };
    }
    let asked_phrase = format!(" {} ", phrase(&question.text));
    let best = question
        .site
        .text_blocks
        .values()
        .filter(|block| !block.removed)
        .map(|block| {
            let heading = format!("{} {}", block.title, block.shortcut.replace(['-', '_'], " "));
            let mut score = 0;
            for name in [&block.title, &block.shortcut] {
                let name = phrase(&name.replace(['-', '_'], " "));
                if name.len() >= 3 && asked_phrase.contains(&format!(" {name} ")) {
                    score += 10;
                }
            }
            score += 3 * words(&heading).intersection(&asked).count();
            score += words(&block.body).intersection(&asked).count();
            (score, block)
        })
        .filter(|(score, _)| *score >= THRESHOLD)
        .max_by_key(|(score, _)| *score);
    match best {
        Some((_, block)) => Answer {
            body: block.body.clone(),
            hand_over: false,
        },
        None => Answer {
            body: DONT_KNOW.into(),
            hand_over: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use livedesk_domain::site::{SiteProfile, SiteSettings, SlaAndRouting, TextBlock};
    use livedesk_domain::{SiteId, TextBlockId};
    use uuid::Uuid;

    use super::*;

    fn site(blocks: &[(&str, &str, &str)]) -> Arc<SiteProfile> {
        let text_blocks = blocks
            .iter()
            .map(|(shortcut, title, body)| {
                let block = TextBlock {
                    shortcut: (*shortcut).into(),
                    title: (*title).into(),
                    body: (*body).into(),
                    removed: false,
                };
                (TextBlockId(Uuid::now_v7()), block)
            })
            .collect();
        Arc::new(SiteProfile {
            id: SiteId(Uuid::now_v7()),
            name: "Shop".into(),
            allowed_origins: vec![],
            widget_key: "key-12345678".into(),
            settings: SiteSettings::default(),
            custom_fields: vec![],
            text_blocks,
            teams: BTreeMap::new(),
            api_tokens: BTreeMap::new(),
            widget_enabled: true,
            identity_secret: None,
            require_signed_identity: false,
            sla_and_routing: SlaAndRouting::default(),
        })
    }

    fn ask(site: &Arc<SiteProfile>, text: &str) -> Answer {
        answer(&Question {
            site: site.clone(),
            history: vec![],
            text: text.into(),
        })
    }

    const BLOCKS: &[(&str, &str, &str)] = &[
        (
            "returns",
            "Return policy",
            "You can return any item within 30 days for a full refund.",
        ),
        (
            "shipping",
            "Shipping times",
            "Orders ship within 2 business days; delivery takes 3-5 days.",
        ),
        (
            "opening-hours",
            "Opening hours",
            "Our support team is available Monday to Friday, 9:00-17:00 CET.",
        ),
    ];

    #[test]
    fn a_question_matching_a_block_by_keywords_or_phrase_gets_its_body() {
        let site = site(BLOCKS);
        assert_eq!(ask(&site, "How do returns work?").body, BLOCKS[0].2);
        assert_eq!(ask(&site, "what are your opening hours").body, BLOCKS[2].2);
        assert_eq!(
            ask(&site, "When will my order ship? How long is delivery?").body,
            BLOCKS[1].2
        );
        assert!(!ask(&site, "Can I return a jacket?").hand_over);
    }

    #[test]
    fn an_unknown_question_is_answered_honestly_and_hands_over() {
        let site = site(BLOCKS);
        let answer = ask(&site, "Do you sell gift cards?");
        assert_eq!(answer.body, DONT_KNOW);
        assert!(answer.hand_over);
        assert!(ask(&self::site(&[]), "returns?").hand_over, "no blocks, no answer");
    }

    #[test]
    fn asking_for_a_person_hands_over_at_once() {
        let answer = ask(&site(BLOCKS), "I want to talk to a human about returns");
        assert_eq!(answer.body, HANDING_OVER);
        assert!(answer.hand_over);
    }
}
