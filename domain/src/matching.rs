//! How one value of a condition matches a fact about a conversation, shared
//! by SLA policies and routing rules.

/// Whether `path` lies under `prefix`, segment by segment: `/help` matches
/// `/help`, `/help/faq` and `/help?q=1` but not `/helpdesk`; a prefix
/// ending in `/` (such as `/`) matches everything under it. Query and
/// fragment of `path` are ignored; case matters, as it does in URLs.
pub fn path_matches(prefix: &str, path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/'))
}

/// Whether `prefix` is a page path prefix a condition may hold: starts with
/// `/`, no whitespace, query or fragment.
pub fn is_path_prefix(prefix: &str) -> bool {
    prefix.starts_with('/') && !prefix.chars().any(|c| c.is_whitespace() || c == '?' || c == '#')
}

/// Whether two labels are the same, ignoring case and surrounding
/// whitespace (`VIP` is ` vip`).
pub fn same_label(a: &str, b: &str) -> bool {
    a.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .eq(b.trim().chars().flat_map(char::to_lowercase))
}

/// Whether the browser language `tag` falls under the language `range`
/// (RFC 4647 basic filtering): equal, or `range` followed by `-`, ignoring
/// case and reading `_` as `-`. So `de` matches `de`, `de-AT` and `de_ch`;
/// `de-AT` matches `de-AT` but not `de-DE` or `de`.
pub fn language_matches(range: &str, tag: &str) -> bool {
    let normal = |b: u8| if b == b'_' { b'-' } else { b.to_ascii_lowercase() };
    let mut tag = tag.trim().bytes().map(normal);
    for expected in range.bytes().map(normal) {
        if tag.next() != Some(expected) {
            return false;
        }
    }
    matches!(tag.next(), None | Some(b'-'))
}

/// Whether `range` is a language a condition may hold: a primary subtag of
/// 2-3 letters and optional subtags of 1-8 letters or digits, joined by `-`
/// (`de`, `de-AT`, `zh-Hant-TW`), at most 35 characters.
pub fn is_language_range(range: &str) -> bool {
    let mut subtags = range.split('-');
    let primary_ok = subtags
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    primary_ok
        && range.len() <= crate::limits::MAX_LANGUAGE_CHARS
        && subtags.all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether a condition over some values holds: an empty list places no
/// restriction, otherwise any value may match.
pub(crate) fn any_of<T>(values: &[T], matches: impl FnMut(&T) -> bool) -> bool {
    values.is_empty() || values.iter().any(matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_prefix_matches_whole_segments_only() {
        assert!(path_matches("/help", "/help"));
        assert!(path_matches("/help", "/help/faq"));
        assert!(path_matches("/help", "/help?q=1"));
        assert!(path_matches("/help/", "/help/faq"));
        assert!(path_matches("/", "/anything"));
        assert!(!path_matches("/help", "/helpdesk"));
        assert!(!path_matches("/help", "/Help"));
        assert!(!path_matches("/help", "/"));
    }

    #[test]
    fn a_language_range_matches_its_subtags_only() {
        assert!(language_matches("de", "de"));
        assert!(language_matches("de", "de-AT"));
        assert!(language_matches("DE", "de_ch"));
        assert!(language_matches("de-AT", "de-at"));
        assert!(!language_matches("de-AT", "de-DE"));
        assert!(!language_matches("de-AT", "de"));
        assert!(!language_matches("de", "dex"));
        assert!(!language_matches("de", "en-DE"));
        assert!(!language_matches("de", "ü"));
    }

    #[test]
    fn language_ranges_and_path_prefixes_are_validated() {
        for good in ["de", "de-AT", "zh-Hant-TW", "gsw"] {
            assert!(is_language_range(good), "{good}");
        }
        for bad in ["", "d", "deutsch", "de-", "de_AT", "de-AT-toolongsubtag", "*"] {
            assert!(!is_language_range(bad), "{bad}");
        }
        assert!(is_path_prefix("/pricing"));
        for bad in ["pricing", "/a b", "/a?b", "/a#b", ""] {
            assert!(!is_path_prefix(bad), "{bad}");
        }
    }

    #[test]
    fn labels_match_ignoring_case_and_surrounding_space() {
        assert!(same_label("VIP", " vip "));
        assert!(same_label("Über", "über"));
        assert!(!same_label("vip", "vips"));
    }
}
