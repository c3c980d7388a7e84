//! The one place that maps event enums to stored type names, schema
//! versions and JSON payloads.
//!
//! Each aggregate lists its events once in [`event_codec!`]: variant, payload
//! type, stored type name, current schema version, and an upcaster per older
//! version. The macro writes the [`EventCodec`](crate::EventCodec) impl and an
//! `EVENT_TYPES` table (used by the catalogue test). Encoding writes only the
//! payload struct; decoding reads the current version directly and passes
//! older versions through their upcaster.

/// Implements [`EventCodec`](crate::EventCodec) for an event enum whose
/// variants each wrap one payload struct.
///
/// ```text
/// event_codec! {
///     ConversationEvent {
///         Opened(ConversationOpened): "ConversationOpened", v = 1;
///         MessagePosted(MessagePosted): "MessagePosted", v = 2, upcast { 1 => upcast_message_posted_v1 };
///     }
/// }
/// ```
///
/// An upcaster is a `fn(&RawValue) -> Result<Payload, serde_json::Error>`
/// reading the old JSON shape into today's payload.
macro_rules! event_codec {
    (
        $enum:ident {
            $(
                $variant:ident($payload:ty): $name:literal, v = $version:literal
                $(, upcast { $($old:literal => $upcast:path),+ $(,)? })?;
            )*
        }
    ) => {
        impl $enum {
            /// Every stored event type of this enum with the schema version
            /// written today. The names are never renamed.
            pub const EVENT_TYPES: &'static [(&'static str, u32)] = &[$(($name, $version)),*];
        }

        impl $crate::aggregate::EventCodec for $enum {
            fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $name,)*
                }
            }

            fn schema_version(&self) -> u32 {
                match self {
                    $(Self::$variant(_) => $version,)*
                }
            }

            fn encode(&self) -> Result<Box<serde_json::value::RawValue>, serde_json::Error> {
                match self {
                    $(Self::$variant(payload) => serde_json::value::to_raw_value(payload),)*
                }
            }

            fn decode(
                event_type: &str,
                schema_version: u32,
                payload: &serde_json::value::RawValue,
            ) -> Result<Self, $crate::aggregate::DecodeError> {
                let malformed = |source| $crate::aggregate::DecodeError::Malformed {
                    event_type: event_type.to_owned(),
                    schema_version,
                    source,
                };
                match event_type {
                    $($name => {
                        let decoded: Result<$payload, serde_json::Error> = match schema_version {
                            $version => serde_json::from_str(payload.get()),
                            $($($old => $upcast(payload),)+)?
                            found => {
                                return Err($crate::aggregate::DecodeError::UnsupportedVersion {
                                    event_type: event_type.to_owned(),
                                    found,
                                    known: $version,
                                })
                            }
                        };
                        decoded.map(Self::$variant).map_err(malformed)
                    })*
                    other => Err($crate::aggregate::DecodeError::UnknownType(other.to_owned())),
                }
            }
        }
    };
}

pub(crate) use event_codec;
