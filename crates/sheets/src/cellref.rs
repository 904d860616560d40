//! Cell addresses: A1 text to zero-based (row, column) and back. Knows nothing of forms.

/// Zero-based (row, col) to an A1 address.
pub fn a1(row: u32, col: u32) -> String {
    let mut c = col + 1;
    let mut letters = Vec::new();
    while c > 0 {
        let rem = ((c - 1) % 26) as u8;
        letters.push(b'A' + rem);
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8(letters).unwrap_or_default(), row + 1)
}

/// Parses an A1 address (with or without `$`) into zero-based (row, col).
pub fn parse_a1(s: &str) -> Option<(u32, u32)> {
    let s: std::borrow::Cow<'_, str> = if s.contains('$') { s.replace('$', "").into() } else { s.into() };
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters > 3 {
        return None;
    }
    match parse_ref(&s)? {
        (row, Some(col)) => Some((row, col)),
        (_, None) => None,
    }
}

/// Parses a cell or row reference as xlsx writes them (`B7`, or `7` for a row) into the
/// zero-based row and, if present, column. Anything else, and any overflow, is `None`.
pub fn parse_ref(s: &str) -> Option<(u32, Option<u32>)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut col: u32 = 0;
    while i < b.len() && b[i].is_ascii_alphabetic() {
        col = col.checked_mul(26)?.checked_add(u32::from(b[i].to_ascii_uppercase() - b'A') + 1)?;
        i += 1;
    }
    if i == b.len() {
        return None;
    }
    let mut row: u32 = 0;
    for &c in &b[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        row = row.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some((row.checked_sub(1)?, col.checked_sub(1)))
}
