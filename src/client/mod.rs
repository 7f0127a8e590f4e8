//! The builtin client: HTTP with a transcript, challenges, auth files, references.
//!
//! It follows containers/image's authentication flow (ping `/v2/`, read the
//! challenge, get a token for the repository's scope with the auth file's credentials)
//! and is what scenarios use unless they name a real program.

pub mod auth_file;
pub mod challenge;
pub mod http;
pub mod proxy_env;
pub mod reference;
pub mod skopeo;
pub mod transport;
