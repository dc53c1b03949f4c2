//! Idempotency tokens for create calls.

use sha2::{Digest, Sha256};

/// How many client tokens create tries when the earlier ones name dead resources.
pub const TOKEN_ATTEMPTS: u32 = 5;

/// An idempotency token for a create call: the same inputs give the same token, so a create
/// retried after its answer was lost (by the SDK or by the next run) returns the resource
/// the first call made instead of a second one. `attempt` moves on to a fresh token when
/// the resource an earlier token made has since failed or been deleted (AWS keeps answering
/// with it). At most 64 ASCII characters, the EC2 limit.
pub fn client_token(parts: &[&str], attempt: u32) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.update(attempt.to_be_bytes());
    let hex: String = h
        .finalize()
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("ecsdeploy-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_delimited() {
        // Moving a character between parts changes the token.
        assert_ne!(client_token(&["ab", "c"], 0), client_token(&["a", "bc"], 0));
        assert!(client_token(&["a"], 0).len() <= 64);
    }
}
