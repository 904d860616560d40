//! Zip surgery for the hostile-input tests; the bench generator (`src/synth.rs`, behind the
//! feature `synth`) includes this file too.

/// Rewrites the declared uncompressed size of an entry in its local and central headers.
pub fn lie_about_size(zip: &mut [u8], name: &str, declared: u32) {
    let n = name.as_bytes();
    let mut i = 0;
    while i + 46 < zip.len() {
        let (size_at, len_at, name_at) = match &zip[i..i + 4] {
            b"PK\x03\x04" => (22, 26, 30),
            b"PK\x01\x02" => (24, 28, 46),
            _ => {
                i += 1;
                continue;
            }
        };
        let l = u16::from_le_bytes([zip[i + len_at], zip[i + len_at + 1]]) as usize;
        if zip.get(i + name_at..i + name_at + l) == Some(n) {
            zip[i + size_at..i + size_at + 4].copy_from_slice(&declared.to_le_bytes());
        }
        i += 4;
    }
}
