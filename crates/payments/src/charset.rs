//! The characters Swiss payment documents permit.

/// The characters a Swiss QR-bill permits (implementation guidelines 2.3, 4.1.1): Basic Latin,
/// Latin-1 Supplement, Latin Extended-A, Ș ș Ț ț and €. Checked here, where the addresses and
/// accounts are read, and again by the QR-bill writer.
pub fn allowed_char(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0xFF | 0x100..=0x17F | 0x218..=0x21B | 0x20AC)
}
