// SPDX-License-Identifier: MPL-2.0
//! `opc-request-id` values: the id OCI logs with every request, quoted in error messages so that
//! Oracle support can find the call. One per attempt (KMS calls, token requests) and per
//! `opc-retry-token`.

use rand::RngCore;

/// A new id: 32 lower-case hex characters from the thread's CSPRNG.
pub fn new_request_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]])
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lower_hex_and_fresh() {
        let id = new_request_id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
        assert_ne!(id, new_request_id());
    }
}
