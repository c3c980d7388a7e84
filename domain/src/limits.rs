//! Size limits on what people type, and the error for input that breaks
//! them.
//!
//! Lengths are counted in Unicode scalar values (`char`s), the way a person
//! counts characters, not in bytes.

/// Default longest message or note body, in characters. A site may change it
/// (`SiteSettings::max_message_chars`); the limit then travels on the command.
pub const DEFAULT_MAX_MESSAGE_CHARS: u32 = 10_000;
/// Longest message body a site may allow.
pub const MAX_MESSAGE_CHARS_CEILING: u32 = 100_000;
/// Most attachments on one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest visitor tag value (email, names, each label, external id) and
/// additional information text value.
pub const MAX_TAG_VALUE_CHARS: usize = 256;
/// Most labels on one visitor.
pub const MAX_LABELS: usize = 50;
/// Longest name of anything named by people: sites, teams, agents, text
/// block titles, API tokens, custom fields.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest attachment reference (a URL or an id).
pub const MAX_REFERENCE_CHARS: usize = 2_048;
/// Longest page path, title or referrer recorded on a session.
pub const MAX_PAGE_CHARS: usize = 2_048;
/// Most SLA policies on a site.
pub const MAX_SLA_POLICIES: usize = 100;
/// Most routing rules on a site.
pub const MAX_ROUTING_RULES: usize = 100;
/// Most values in one condition of a policy or rule (providers, labels,
/// teams, path prefixes or languages).
pub const MAX_CONDITION_VALUES: usize = 50;
/// Longest page path prefix in a condition.
pub const MAX_PATH_PREFIX_CHARS: usize = 512;
/// Longest language range in a condition (`de`, `de-AT`), as BCP 47 allows.
pub const MAX_LANGUAGE_CHARS: usize = 35;
/// Longest SLA target: 90 days of business time, in seconds.
pub const MAX_SLA_TARGET_SECS: u32 = 90 * 86_400;
/// Most weekly business-hours intervals on a site.
pub const MAX_BUSINESS_INTERVALS: usize = 100;
/// Most holidays on a site (a few years' worth).
pub const MAX_HOLIDAYS: usize = 500;
/// Shortest and longest wait before an unanswered conversation is
/// reassigned, in seconds (30 seconds to 1 day).
pub const REASSIGN_AFTER_SECS: std::ops::RangeInclusive<u32> = 30..=86_400;

/// Input that breaks a size rule. Each aggregate's error wraps it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Nothing but whitespace where content is required.
    #[error("{field} is empty")]
    Empty {
        /// What was empty.
        field: &'static str,
    },
    /// Longer than allowed.
    #[error("{field} is {chars} characters long, the limit is {max}")]
    TooLong {
        /// What was too long.
        field: &'static str,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// More items than allowed.
    #[error("{count} {field} given, the limit is {max}")]
    TooMany {
        /// What there were too many of.
        field: &'static str,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A value that is out of its allowed range or shape.
    #[error("{field} is invalid: {reason}")]
    Invalid {
        /// Which value.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Checks that `value` is at most `max` characters.
///
/// # Errors
///
/// [`InputError::TooLong`] naming `field`.
pub fn at_most(field: &'static str, value: &str, max: usize) -> Result<(), InputError> {
    // Cheap path: a byte length within the limit means the char count is too.
    if value.len() <= max {
        return Ok(());
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(InputError::TooLong { field, chars, max });
    }
    Ok(())
}

/// Checks that `value` has non-whitespace content and is at most `max`
/// characters.
///
/// # Errors
///
/// [`InputError::Empty`] or [`InputError::TooLong`] naming `field`.
pub fn required(field: &'static str, value: &str, max: usize) -> Result<(), InputError> {
    if value.trim().is_empty() {
        return Err(InputError::Empty { field });
    }
    at_most(field, value, max)
}

/// Checks that a list has at most `max` items.
///
/// # Errors
///
/// [`InputError::TooMany`] naming `field`.
pub fn at_most_items<T>(field: &'static str, items: &[T], max: usize) -> Result<(), InputError> {
    if items.len() > max {
        return Err(InputError::TooMany {
            field,
            count: items.len(),
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        let ten_umlauts = "ü".repeat(10);
        assert_eq!(at_most("body", &ten_umlauts, 10), Ok(()));
        assert_eq!(
            at_most("body", &"ü".repeat(11), 10),
            Err(InputError::TooLong {
                field: "body",
                chars: 11,
                max: 10
            })
        );
    }

    #[test]
    fn whitespace_only_counts_as_empty() {
        assert_eq!(required("name", " \n\t", 10), Err(InputError::Empty { field: "name" }));
    }
}
