//! Oracle: cross-test isolation. A read must not return bytes another test wrote.

/// Test `reader` read content whose writers are the bit set `writers` (bit `t`: test `t` wrote
/// part of it). Returns the other tests that wrote it: isolation is broken when that is not 0.
pub fn on_read(reader: usize, writers: u64) -> u64 {
    writers & !(1u64 << reader)
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_writes_are_fine_others_are_not() {
        assert_eq!(super::on_read(2, 0b100), 0);
        assert_eq!(super::on_read(2, 0b101), 0b001);
        assert_eq!(super::on_read(0, 0), 0);
    }
}
