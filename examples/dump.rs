//! Prints what the reader and extractor see in a file (debugging aid).
fn main() {
    for p in std::env::args().skip(1) {
        let bytes = std::fs::read(&p).expect("read");
        match beitraege::workbook::read_workbook(&bytes, &Default::default()) {
            Ok(wb) => {
                println!("== {p} {:?} names={:?}", wb.format, wb.names);
                match beitraege::extract::extract(&wb) {
                    Some(f) => {
                        for (k, v) in &f.fields {
                            println!(
                                "  {:<28} {:?} {:?}",
                                k.name(),
                                v.pos.as_ref().map(|p| format!("{}!{}", p.sheet, p.a1())),
                                v.value
                            );
                        }
                    }
                    None => println!("  no form"),
                }
            }
            Err(e) => println!("== {p}: {e:?}"),
        }
    }
}
