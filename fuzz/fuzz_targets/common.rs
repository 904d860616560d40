//! What both fuzz targets share: the sample master data, and recognising and validating a
//! workbook as `beitraege run` does for one inbox file.

use beitraege::extract::extract;
use beitraege::scan::{EntryKind, InboxFile};
use beitraege::stammdaten::Stammdaten;
use beitraege::validate::{validate_form, Ctx, FileResult};
use beitraege::workbook::Workbook;
use std::sync::OnceLock;

fn master() -> &'static Stammdaten {
    static M: OnceLock<Stammdaten> = OnceLock::new();
    M.get_or_init(|| {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../samples/2023/Stammdaten.xlsx");
        Stammdaten::load(std::path::Path::new(p)).expect("sample master data")
    })
}

/// Recognises the form in `wb` (a file of `size` bytes) and validates it.
pub fn recognise_and_validate(wb: &Workbook, size: usize) {
    let Some(form) = extract(wb) else { return };
    let f = InboxFile {
        rel: "fuzz.xlsx".into(),
        path: "fuzz.xlsx".into(),
        kind: EntryKind::Spreadsheet,
        size: size as u64,
        received: chrono::NaiveDate::from_ymd_opt(2023, 8, 1),
        received_from: None,
    };
    let ctx = Ctx { year: 2023, master: master() };
    let _ = validate_form(FileResult::new(&f), form, &ctx);
}
