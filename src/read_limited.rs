// SPDX-License-Identifier: MPL-2.0
//! Reading a file that configuration names, with a size limit: a wrong path (`/dev/zero`, a
//! log file) must end in an error, not exhaust memory.

use std::io::{self, Read};
use std::path::Path;

/// The contents of `path`; an `InvalidData` error when it holds more than `limit` bytes.
pub(crate) fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        let message = format!("it is larger than {limit} bytes");
        return Err(io::Error::new(io::ErrorKind::InvalidData, message));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_limited(&path, 5).unwrap(), b"12345");
        let err = read_limited(&path, 4).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("larger than 4 bytes"), "{err}");
        let endless = read_limited(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(endless.kind(), io::ErrorKind::InvalidData);
        assert!(read_limited(&dir.path().join("missing"), 4).is_err());
    }
}
