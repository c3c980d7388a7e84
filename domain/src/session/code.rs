//! Session codes: short, human-typable ids a visitor reads out to an agent
//! for "connect by code".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The alphabet of codes: Crockford base32 (no I, L, O, U), so a code read
/// over the phone is not misheard.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Length of generated codes.
pub const SESSION_CODE_LEN: usize = 6;

/// A session code such as `7K3QXM`.
///
/// Stored upper-case in Crockford base32, 4 to 12 characters. Parsing
/// forgives how people type: lower case, spaces and dashes, `O` for `0`,
/// `I` and `L` for `1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionCode(String);

/// A string that cannot be read as a session code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a session code: 4 to 12 letters and digits")]
pub struct SessionCodeError(String);

impl SessionCode {
    /// Reads a code as a person typed it.
    ///
    /// # Errors
    ///
    /// [`SessionCodeError`] when it is too short, too long, or has characters
    /// outside the alphabet.
    pub fn parse(typed: &str) -> Result<Self, SessionCodeError> {
        let mut code = String::with_capacity(typed.len());
        for c in typed.chars().filter(|c| !matches!(c, ' ' | '-')) {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(SessionCodeError(typed.to_owned()));
            }
            code.push(c);
        }
        if !(4..=12).contains(&code.len()) {
            return Err(SessionCodeError(typed.to_owned()));
        }
        Ok(Self(code))
    }

    /// A code of [`SESSION_CODE_LEN`] characters from a random number the
    /// caller drew (the domain has no RNG). About a billion codes; the Live
    /// View looks codes up among active sessions of one site only.
    pub fn from_random(random: u64) -> Self {
        let code = (0..SESSION_CODE_LEN)
            .map(|i| char::from(ALPHABET[((random >> (5 * i)) & 31) as usize]))
            .collect();
        Self(code)
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SessionCode {
    type Err = SessionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for SessionCode {
    type Error = SessionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SessionCode> for String {
    fn from(code: SessionCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_read_the_way_people_type_it() {
        let code = SessionCode::parse("7k3-qxo").expect("typed code");
        assert_eq!(code.as_str(), "7K3QX0");
        assert_eq!(SessionCode::parse("il10").expect("typed code").as_str(), "1110");
    }

    #[test]
    fn codes_outside_the_alphabet_or_length_are_rejected() {
        assert!(SessionCode::parse("ABC").is_err());
        assert!(SessionCode::parse("ABCDEFGHJKMNP").is_err());
        assert!(SessionCode::parse("ABCU").is_err());
        assert!(SessionCode::parse("ÄBCD").is_err());
    }

    #[test]
    fn generated_codes_parse_back_to_themselves() {
        for random in [0, 1, u64::MAX, 0x0123_4567_89ab_cdef] {
            let code = SessionCode::from_random(random);
            assert_eq!(SessionCode::parse(code.as_str()), Ok(code));
        }
    }
}
