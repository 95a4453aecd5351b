// SPDX-License-Identifier: MPL-2.0
//! Reading a fuzz input as a sequence of fields: single bytes, and byte strings ended by a
//! separator (or by the end of the input).

/// What ends a byte string field.
pub const SEPARATOR: &[u8] = b"\0\0";

/// The unread part of a fuzz input.
pub struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    /// Reads `data` from the start.
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input(data)
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next byte (0 once the input is exhausted).
    pub fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        self.0 = rest;
        first
    }

    /// The bytes up to the next [`SEPARATOR`] (consumed, not returned) or the end.
    pub fn field(&mut self) -> &'a [u8] {
        let end = self.0.windows(SEPARATOR.len()).position(|w| w == SEPARATOR);
        let (field, rest) = match end {
            Some(at) => (&self.0[..at], &self.0[at + SEPARATOR.len()..]),
            None => (self.0, &[][..]),
        };
        self.0 = rest;
        field
    }
}
