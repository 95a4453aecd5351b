// SPDX-License-Identifier: MPL-2.0
//! Reading a file that configuration names, with a size limit: a wrong path (`/dev/zero`, a
//! log file) must end in an error, not exhaust memory.

use std::io::{self, Read};
use std::path::Path;

use zeroize::Zeroizing;

/// The most a key or token file may hold (a PEM key is a few KiB, a token a few hundred bytes).
pub(crate) const SECRET_FILE_LIMIT: u64 = 1 << 20;

/// The contents of `path` (an `InvalidData` error when it holds more than `limit` bytes), in a
/// buffer sized from the file's length up front (so growing it leaves no copy of a key or token
/// behind) and zeroed when dropped.
pub(crate) fn read_limited(path: &Path, limit: u64) -> io::Result<Zeroizing<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let expected = file.metadata().map(|m| m.len()).unwrap_or(0).min(limit);
    let mut bytes = Zeroizing::new(Vec::with_capacity(usize::try_from(expected + 1).unwrap_or(0)));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        let message = format!("it is larger than {limit} bytes");
        return Err(io::Error::new(io::ErrorKind::InvalidData, message));
    }
    Ok(bytes)
}

/// [`read_limited`] for a text file (UTF-8).
pub(crate) fn read_limited_text(path: &Path, limit: u64) -> io::Result<Zeroizing<String>> {
    let bytes = read_limited(path, limit)?;
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_limited(&path, 5).unwrap().as_slice(), b"12345");
        let err = read_limited(&path, 4).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("larger than 4 bytes"), "{err}");
        let endless = read_limited(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(endless.kind(), io::ErrorKind::InvalidData);
        assert!(read_limited(&dir.path().join("missing"), 4).is_err());
    }

    #[test]
    fn secret_files_are_bounded_and_read_into_a_buffer_sized_up_front() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "t".repeat(5000)).unwrap();
        let bytes = read_limited(&path, SECRET_FILE_LIMIT).unwrap();
        assert_eq!(bytes.len(), 5000);
        assert_eq!(bytes.capacity(), 5001, "sized from the file's length, never grown");
        assert_eq!(read_limited_text(&path, SECRET_FILE_LIMIT).unwrap().len(), 5000);
        let endless = read_limited_text(Path::new("/dev/zero"), SECRET_FILE_LIMIT).unwrap_err();
        assert!(endless.to_string().contains("larger than"), "{endless}");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(read_limited_text(&path, SECRET_FILE_LIMIT).is_err());
    }
}
