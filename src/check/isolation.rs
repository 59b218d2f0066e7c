//! Oracle: cross-test isolation. A read must not return bytes another test wrote.

/// `writer` wrote what `reader` just read; a complaint when they are different tests.
pub fn on_read(reader: usize, writer: Option<usize>) -> bool {
    writer.is_some_and(|w| w != reader)
}
