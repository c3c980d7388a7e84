//! Transports: GraphQL over HTTP (`/graphql`) and over WebSocket
//! (`/graphql/ws`, graphql-transport-ws).

pub mod http;
pub mod ws;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ErrorExtensionValues, Response, ServerError};

/// Whether `response` failed before execution (parse, validation, depth,
/// complexity, variables): no data and no error with a path. Such errors
/// get `extensions.code = BAD_USER_INPUT`.
pub(crate) fn request_error(response: &mut Response) -> bool {
    let before_execution = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if before_execution {
        for error in &mut response.errors {
            let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
            if extensions.get("code").is_none() {
                extensions.set("code", "BAD_USER_INPUT");
            }
        }
    }
    before_execution
}

/// Gives `BAD_USER_INPUT` to the errors async-graphql raises while it
/// reads a field's arguments during execution: a value its scalar refuses
/// (`"yesterday"` for a `DateTime!`, in a variable or inline). They carry a
/// path and no code (every error of ours has one), and async-graphql words
/// them `Failed to parse "<type>": ...` or `Expected input type ...`.
pub(crate) fn code_argument_errors(response: &mut Response) {
    for error in &mut response.errors {
        let unparsable =
            error.message.starts_with("Failed to parse \"") || error.message.starts_with("Expected input type \"");
        if !unparsable {
            continue;
        }
        let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
}

/// A GraphQL error with a code, for answers given before execution.
pub(crate) fn coded_error(message: impl Into<String>, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    error
}

/// The type of the operation `operation_name` selects in `query`; `None`
/// when the document does not parse or names no such operation (execution
/// then reports why).
pub(crate) fn operation_type(query: &str, operation_name: Option<&str>) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(query).ok()?;
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    }
}
