//! Domain types shared by every pipeline stage: municipality, period, report, tariff, finding.
//!
//! Nothing in here does I/O. The stages pass these types along in one direction:
//! scan → workbook → extract → validate → compute → write.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// BFS municipality number (Gemeindenummer des Bundesamts für Statistik).
pub type Bfs = u32;

/// Exact CHF amount, arithmetic checked ([`crate::money`]). Always 2 decimal places when shown.
pub use crate::money::Chf;

// ---------------------------------------------------------------------------
// Hard ceilings
// ---------------------------------------------------------------------------

/// The largest count a form may report ([`sheets::values::MAX_COUNT`]).
pub use sheets::values::MAX_COUNT;

/// The largest rate (`Tarife`) in CHF: the flat rates of the Kreisschreiben are a few hundred
/// francs and the Sockelbeitrag a few francs per person; 100,000 leaves a wide margin.
pub const MAX_TARIFF_CHF: i64 = 100_000;

/// The largest single amount of `Rückforderungen` or `Kredit` in CHF (one billion; the
/// canton's whole yearly budget for this is a few million).
pub const MAX_AMOUNT_CHF: i64 = 1_000_000_000;

// ---------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------

/// Severity of a finding (RULES.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// The affected amount is withheld until a corrected form arrives.
    Fehler,
    /// Paid, but the municipality is asked to check.
    Warnung,
    /// Information only.
    Hinweis,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Fehler => "Fehler",
            Severity::Warnung => "Warnung",
            Severity::Hinweis => "Hinweis",
        }
    }
    pub const ALL: [Severity; 3] = [Severity::Fehler, Severity::Warnung, Severity::Hinweis];
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

macro_rules! codes {
    ($( $variant:ident = $text:literal, $sev:ident; )*) => {
        /// Every finding code of RULES.md (plus the AGS-internal credit warning).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];
            /// The stable code text, e.g. `WERT_LEER`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $text, )* }
            }
            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }
            pub fn parse(s: &str) -> Option<Code> {
                match s { $( $text => Some(Code::$variant), )* _ => None }
            }
        }
    };
}

codes! {
    DateiUnlesbar = "DATEI_UNLESBAR", Fehler;
    DateiVerschluesselt = "DATEI_VERSCHLUESSELT", Fehler;
    DateiKeinFormular = "DATEI_KEIN_FORMULAR", Fehler;
    DateiFormat = "DATEI_FORMAT", Fehler;
    DateiIgnoriert = "DATEI_IGNORIERT", Hinweis;
    DateiVerknuepfung = "DATEI_VERKNUEPFUNG", Fehler;
    DateiSonderdatei = "DATEI_SONDERDATEI", Fehler;
    DateiDuplikat = "DATEI_DUPLIKAT", Hinweis;
    FormularVersion = "FORMULAR_VERSION", Fehler;
    DateiZuGross = "DATEI_ZU_GROSS", Fehler;
    DateiMehrereFormulare = "DATEI_MEHRERE_FORMULARE", Warnung;
    BfsUnbekannt = "BFS_UNBEKANNT", Fehler;
    GemeindeName = "GEMEINDE_NAME", Warnung;
    GemeindeAufgeloest = "GEMEINDE_AUFGELOEST", Fehler;
    PeriodeUngueltig = "PERIODE_UNGUELTIG", Fehler;
    PeriodeZukunft = "PERIODE_ZUKUNFT", Fehler;
    AnderesJahr = "ANDERES_JAHR", Hinweis;
    WertLeer = "WERT_LEER", Warnung;
    WertKeineZahl = "WERT_KEINE_ZAHL", Fehler;
    WertNegativ = "WERT_NEGATIV", Fehler;
    WertNichtGanzzahlig = "WERT_NICHT_GANZZAHLIG", Fehler;
    WertTextzahl = "WERT_TEXTZAHL", Hinweis;
    WertUnplausibel = "WERT_UNPLAUSIBEL", Warnung;
    WertSprung = "WERT_SPRUNG", Warnung;
    WertZuGross = "WERT_ZU_GROSS", Fehler;
    DolmetschUeberGespraeche = "DOLMETSCH_UEBER_GESPRAECHE", Fehler;
    IgVor2022 = "IG_VOR_2022", Fehler;
    PersonenUnterGespraeche = "PERSONEN_UNTER_GESPRAECHE", Warnung;
    GespraecheUeberZuzuege = "GESPRAECHE_UEBER_ZUZUEGE", Warnung;
    LeitMitgliedMeldetSelbst = "LEIT_MITGLIED_MELDET_SELBST", Fehler;
    LeitFremdeGemeinde = "LEIT_FREMDE_GEMEINDE", Fehler;
    LeitMitgliedFehlt = "LEIT_MITGLIED_FEHLT", Warnung;
    LeitSumme = "LEIT_SUMME", Fehler;
    LeitAngabeAbweichend = "LEIT_ANGABE_ABWEICHEND", Warnung;
    SdFehlt = "SD_FEHLT", Fehler;
    NichtBerechtigt = "NICHT_BERECHTIGT", Fehler;
    SdAntwortNein = "SD_ANTWORT_NEIN", Warnung;
    BerichtFehlt = "BERICHT_FEHLT", Warnung;
    FristVerpasst = "FRIST_VERPASST", Warnung;
    Ersetzt = "ERSETZT", Hinweis;
    KreditUeberschritten = "KREDIT_UEBERSCHRITTEN", Warnung;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cell position: sheet name and A1 address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellPos {
    /// Shared by all fields of one form: one allocation per form, not per field.
    pub sheet: std::sync::Arc<str>,
    /// Zero-based row and column.
    pub row: u32,
    pub col: u32,
}

impl CellPos {
    pub fn new(sheet: impl Into<std::sync::Arc<str>>, row: u32, col: u32) -> Self {
        CellPos { sheet: sheet.into(), row, col }
    }
    /// The A1 address, e.g. `B13`.
    pub fn a1(&self) -> String {
        a1(self.row, self.col)
    }
}

pub use sheets::cellref::{a1, parse_a1, parse_ref};

/// One finding: what is wrong, where, and how to fix it. Message and fix come from
/// [`crate::catalogue`], keyed by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub bfs: Option<Bfs>,
    /// Path relative to the inbox, `/` between folders; `None` for a municipality as a whole.
    pub file: Option<String>,
    /// Where in the file: a sheet, or a cell of it (`None`: the file as a whole).
    pub place: Option<Place>,
    /// The value found, as the user sees it.
    pub value: Option<String>,
    pub message: String,
    pub fix: String,
}

impl Finding {
    /// The sheet the finding is on.
    pub fn sheet(&self) -> Option<&str> {
        self.place.as_ref().map(Place::sheet)
    }
    /// The cell the finding is on.
    pub fn pos(&self) -> Option<&CellPos> {
        self.place.as_ref().and_then(Place::pos)
    }
    /// The cell's A1 address as shown (`B13`).
    pub fn cell(&self) -> Option<String> {
        self.pos().map(CellPos::a1)
    }
}

/// Where in a file a finding is: a whole sheet, or one cell of a sheet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    Sheet(std::sync::Arc<str>),
    Cell(CellPos),
}

impl Place {
    pub fn sheet(&self) -> &str {
        match self {
            Place::Sheet(s) => s,
            Place::Cell(p) => &p.sheet,
        }
    }
    pub fn pos(&self) -> Option<&CellPos> {
        match self {
            Place::Sheet(_) => None,
            Place::Cell(p) => Some(p),
        }
    }
}

/// A condition of eligibility (4.2) that a Selbstdeklaration does not meet. The German text
/// is [`crate::catalogue::unmet_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmet {
    /// No Integrationsbeauftragte/r is named.
    NoOfficer,
    /// A required question is not answered «Ja»: its label, and the answer found (`None`: blank).
    NotYes { question: &'static str, answer: Option<String> },
}

// ---------------------------------------------------------------------------
// Periods
// ---------------------------------------------------------------------------

/// A reporting half-year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Period {
    pub year: i32,
    /// 1 = January–June, 2 = July–December.
    pub half: u8,
}

impl Period {
    pub fn new(year: i32, half: u8) -> Self {
        Period { year, half }
    }
    pub fn first_day(self) -> NaiveDate {
        ymd(self.year, if self.half == 1 { 1 } else { 7 }, 1)
    }
    /// 30.06. or 31.12.: the day whose tariff and contracts apply.
    pub fn last_day(self) -> NaiveDate {
        if self.half == 1 {
            ymd(self.year, 6, 30)
        } else {
            ymd(self.year, 12, 31)
        }
    }
    /// 31.07. of the year for H1, 31.01. of the next year for H2 (5.2).
    pub fn deadline(self) -> NaiveDate {
        if self.half == 1 {
            ymd(self.year, 7, 31)
        } else {
            ymd(self.year + 1, 1, 31)
        }
    }
    pub fn label(self) -> String {
        format!("{}. Halbjahr {}", self.half, self.year)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// A calendar date from parts known to be valid.
pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The most characters of a text from an input file (a value, a name, a list of sheets)
/// that a finding quotes; longer texts end in `…`.
pub const MAX_QUOTED_CHARS: usize = 300;

/// The most characters of a finding's detail.
pub const MAX_DETAIL_CHARS: usize = 1_000;

/// `s` cut to at most `max_chars` characters, ending in `…` when cut.
pub fn shorten(s: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    // A byte length within the limit is a character count within it too.
    if s.len() <= max_chars {
        return s.into();
    }
    match s.char_indices().nth(max_chars.saturating_sub(1)) {
        Some((cut, _)) if s[cut..].chars().nth(1).is_some() => format!("{}…", &s[..cut]).into(),
        _ => s.into(),
    }
}

/// A whole number with Swiss thousands separators: `1'000'000`.
pub fn swiss_int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\'');
        }
        out.push(ch);
    }
    out
}

/// CHF with Swiss thousands separators: 634'493.00.
pub fn chf_text(d: Chf) -> String {
    let s = format!("{:.2}", d.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('\'');
        }
        grouped.push(ch);
    }
    format!("{}{grouped}.{frac}", if d.is_negative() { "-" } else { "" })
}

/// Swiss date text `TT.MM.JJJJ`.
pub fn fmt_date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

// ---------------------------------------------------------------------------
// Master data
// ---------------------------------------------------------------------------

/// A validity interval of master data: both ends inclusive, `None` open. Municipalities,
/// contract memberships and tariffs all use it, so the boundary rule is written once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Validity {
    /// First valid day (`Gültig ab`); `None`: since ever.
    pub from: Option<NaiveDate>,
    /// Last valid day (`Gültig bis`), inclusive; `None`: open-ended.
    pub to: Option<NaiveDate>,
}

impl Validity {
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Self {
        Validity { from, to }
    }
    /// Valid since ever and for ever.
    pub const ALWAYS: Validity = Validity { from: None, to: None };
    /// The first valid day, `NaiveDate::MIN` when open.
    pub fn start(&self) -> NaiveDate {
        self.from.unwrap_or(NaiveDate::MIN)
    }
    /// The last valid day, `NaiveDate::MAX` when open.
    pub fn end(&self) -> NaiveDate {
        self.to.unwrap_or(NaiveDate::MAX)
    }
    /// Whether day `d` lies in the interval (both ends inclusive).
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start() <= d && d <= self.end()
    }
    /// Whether the two intervals share at least one day.
    pub fn overlaps(&self, o: &Validity) -> bool {
        self.start() <= o.end() && o.start() <= self.end()
    }
    /// Whether the interval holds at least one day of year `y`.
    pub fn intersects_year(&self, y: i32) -> bool {
        self.overlaps(&Validity::new(Some(ymd(y, 1, 1)), Some(ymd(y, 12, 31))))
    }
}

/// An Einwohnergemeinde from the `Gemeinden` sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Municipality {
    pub bfs: Bfs,
    pub name: String,
    pub district: String,
    pub validity: Validity,
    pub successor: Option<Bfs>,
}

impl Municipality {
    pub fn exists_on(&self, d: NaiveDate) -> bool {
        self.validity.contains(d)
    }
    /// Exists on at least one day of year `y`.
    pub fn exists_in_year(&self, y: i32) -> bool {
        self.validity.intersects_year(y)
    }
}

/// One row of `Leitgemeinden`: a member of a lead-municipality contract (3.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractMembership {
    pub contract: String,
    pub lead: Bfs,
    pub member: Bfs,
    pub validity: Validity,
}

impl ContractMembership {
    pub fn active_on(&self, d: NaiveDate) -> bool {
        self.validity.contains(d)
    }
}

/// Tariff codes of the `Tarife` sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TariffCode {
    FallEg,
    DolmetschEg,
    Sockel,
    FallIg,
    DolmetschIg,
}

impl TariffCode {
    pub const ALL: [TariffCode; 5] =
        [TariffCode::Sockel, TariffCode::FallEg, TariffCode::DolmetschEg, TariffCode::FallIg, TariffCode::DolmetschIg];
    pub fn as_str(self) -> &'static str {
        match self {
            TariffCode::FallEg => "FALL_EG",
            TariffCode::DolmetschEg => "DOLMETSCH_EG",
            TariffCode::Sockel => "SOCKEL",
            TariffCode::FallIg => "FALL_IG",
            TariffCode::DolmetschIg => "DOLMETSCH_IG",
        }
    }
    pub fn parse(s: &str) -> Option<TariffCode> {
        TariffCode::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }
    /// The Kreisschreiben's name of the flat rate.
    pub fn label(self) -> &'static str {
        match self {
            TariffCode::FallEg => "Fallpauschale Erstinformationsgespräch",
            TariffCode::DolmetschEg => "Dolmetschpauschale Erstinformationsgespräch",
            TariffCode::Sockel => "Sockelbeitrag",
            TariffCode::FallIg => "Fallpauschale Integrationsgespräch",
            TariffCode::DolmetschIg => "Dolmetschpauschale Integrationsgespräch",
        }
    }
}

/// A rate with its validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tariff {
    pub code: TariffCode,
    pub amount: Chf,
    pub validity: Validity,
}

impl Tariff {
    pub fn valid_on(&self, d: NaiveDate) -> bool {
        self.validity.contains(d)
    }
}

/// A clawback (4.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clawback {
    pub bfs: Bfs,
    pub amount: Chf,
    pub reason: String,
    pub decided_on: NaiveDate,
    /// The decision's number (column `Verfügung`), when the master data have it.
    pub decision: Option<String>,
}

impl Clawback {
    /// The decision's identity in the ledger: its `Verfügung` number, else municipality,
    /// decision date and amount. Never the reason: correcting its wording books nothing again.
    pub fn reference(&self) -> String {
        match &self.decision {
            Some(n) => format!("VF-{}", n.trim()),
            None => {
                format!("RF-{}-{}-{}", self.bfs, self.decided_on.format("%Y%m%d"), self.amount.decimal().normalize())
            }
        }
    }
}

/// An invoice with what has been received on it.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceState {
    /// The invoice number (`2023-0007`), printed on the invoice; the QR-bill's creditor
    /// reference is derived from it.
    pub id: String,
    pub payee: Bfs,
    /// The Stichtag of the run that issued it.
    pub stichtag: NaiveDate,
    /// The invoice's date (the day its run was booked).
    pub date: NaiveDate,
    pub amount: Chf,
    pub due_on: NaiveDate,
    pub received: Chf,
    pub reversed: bool,
}

impl InvoiceState {
    /// What is still open (both amounts are bounded by the ledger's ceiling per booking).
    pub fn open(&self) -> Chf {
        if self.reversed {
            Chf::ZERO
        } else {
            self.amount.saturating_sub(self.received)
        }
    }
}

// ---------------------------------------------------------------------------
// Forms
// ---------------------------------------------------------------------------

/// Which of the two forms a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum FormKind {
    /// Anhang Nr. 2
    Reporting,
    /// Anhang Nr. 3
    Selbstdeklaration,
}

impl FormKind {
    pub fn label(self) -> &'static str {
        match self {
            FormKind::Reporting => "Reportingformular",
            FormKind::Selbstdeklaration => "Selbstdeklaration",
        }
    }
}

/// Template version of a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum FormVersion {
    V2018,
    V2022,
}

/// The count fields of the Reportingformular.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum CountField {
    EgAnzahl,
    EgDolmetsch,
    EgDolmetschAndere,
    EgPersonen,
    Infomappen,
    Neuzuzuege,
    IgAnzahl,
    IgDolmetsch,
    Meldungen,
}

impl CountField {
    pub const ALL: [CountField; 9] = [
        CountField::EgAnzahl,
        CountField::EgDolmetsch,
        CountField::EgDolmetschAndere,
        CountField::EgPersonen,
        CountField::Infomappen,
        CountField::Neuzuzuege,
        CountField::IgAnzahl,
        CountField::IgDolmetsch,
        CountField::Meldungen,
    ];
    /// Whether the field exists in a template version.
    pub fn in_version(self, v: FormVersion) -> bool {
        match self {
            CountField::IgAnzahl | CountField::IgDolmetsch | CountField::Meldungen => v == FormVersion::V2022,
            _ => true,
        }
    }
    /// The paid component this count drives, if any.
    pub fn paid_as(self) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.count_field() == self)
    }
}

/// A paid per-half-year component: the four flat rates a Reportingformular's counts are paid
/// by. The Sockelbeitrag is paid per year, not per half-year, and is no component: so no code
/// can ask a half-year for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Component {
    /// `FALL_EG`: Erstinformationsgespräche.
    FallEg,
    /// `DOLMETSCH_EG`: interpreters in Erstinformationsgespräche.
    DolmetschEg,
    /// `FALL_IG`: Integrationsgespräche.
    FallIg,
    /// `DOLMETSCH_IG`: interpreters in Integrationsgespräche.
    DolmetschIg,
}

impl Component {
    /// The components in annex order.
    pub const ALL: [Component; 4] =
        [Component::FallEg, Component::DolmetschEg, Component::FallIg, Component::DolmetschIg];

    /// The tariff the component is paid at.
    pub fn tariff(self) -> TariffCode {
        match self {
            Component::FallEg => TariffCode::FallEg,
            Component::DolmetschEg => TariffCode::DolmetschEg,
            Component::FallIg => TariffCode::FallIg,
            Component::DolmetschIg => TariffCode::DolmetschIg,
        }
    }

    /// The form's count field the component is paid for.
    pub fn count_field(self) -> CountField {
        match self {
            Component::FallEg => CountField::EgAnzahl,
            Component::DolmetschEg => CountField::EgDolmetsch,
            Component::FallIg => CountField::IgAnzahl,
            Component::DolmetschIg => CountField::IgDolmetsch,
        }
    }

    /// The component's German name in the annex and the feedback.
    pub fn label(self) -> &'static str {
        match self {
            Component::FallEg => "Fallpauschale Erstinformation",
            Component::DolmetschEg => "Dolmetschpauschale Erstinformation",
            Component::FallIg => "Fallpauschale Integrationsgespräche",
            Component::DolmetschIg => "Dolmetschpauschale Integrationsgespräche",
        }
    }
}

impl TariffCode {
    /// The per-half-year component paid at this tariff (`None`: the Sockelbeitrag).
    pub fn component(self) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.tariff() == self)
    }
}

/// One value per paid per-half-year [`Component`], addressed by name: the counts paid
/// ([`PaidCounts`]), the amounts computed and paid, whether a column could be summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Components<T> {
    /// `FALL_EG`: Erstinformationsgespräche.
    pub eg: T,
    /// `DOLMETSCH_EG`: interpreters in Erstinformationsgespräche.
    pub d_eg: T,
    /// `FALL_IG`: Integrationsgespräche.
    pub ig: T,
    /// `DOLMETSCH_IG`: interpreters in Integrationsgespräche.
    pub d_ig: T,
}

/// The four paid per-half-year counts.
pub type PaidCounts = Components<u64>;

impl<T: Copy> Components<T> {
    /// The same value in every component.
    pub fn splat(v: T) -> Self {
        Components { eg: v, d_eg: v, ig: v, d_ig: v }
    }
    pub fn get(&self, c: Component) -> T {
        match c {
            Component::FallEg => self.eg,
            Component::DolmetschEg => self.d_eg,
            Component::FallIg => self.ig,
            Component::DolmetschIg => self.d_ig,
        }
    }
    pub fn set(&mut self, c: Component, v: T) {
        match c {
            Component::FallEg => self.eg = v,
            Component::DolmetschEg => self.d_eg = v,
            Component::FallIg => self.ig = v,
            Component::DolmetschIg => self.d_ig = v,
        }
    }
    /// The components with their names, in annex order ([`PERIOD_COMPONENTS`]).
    pub fn iter(&self) -> impl Iterator<Item = (Component, T)> + '_ {
        PERIOD_COMPONENTS.into_iter().map(|c| (c, self.get(c)))
    }
    /// The values in annex order.
    pub fn values(&self) -> [T; 4] {
        [self.eg, self.d_eg, self.ig, self.d_ig]
    }
}

impl PaidCounts {
    /// The component-wise sum, or `None` when any component would overflow.
    pub fn checked_add(&self, o: &PaidCounts) -> Option<PaidCounts> {
        Some(PaidCounts {
            eg: self.eg.checked_add(o.eg)?,
            d_eg: self.d_eg.checked_add(o.d_eg)?,
            ig: self.ig.checked_add(o.ig)?,
            d_ig: self.d_ig.checked_add(o.d_ig)?,
        })
    }
}

/// The per-half-year components, in annex order.
pub const PERIOD_COMPONENTS: [Component; 4] = Component::ALL;

/// The end state of an inbox file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum FileState {
    Verarbeitet,
    Ersetzt,
    Abgelehnt,
    Ignoriert,
}

impl FileState {
    pub const ALL: [FileState; 4] =
        [FileState::Verarbeitet, FileState::Ersetzt, FileState::Abgelehnt, FileState::Ignoriert];
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Verarbeitet => "verarbeitet",
            FileState::Ersetzt => "ersetzt",
            FileState::Abgelehnt => "abgelehnt",
            FileState::Ignoriert => "ignoriert",
        }
    }
}

impl fmt::Display for FileState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_round_trip() {
        for (r, c, s) in
            [(0, 0, "A1"), (12, 1, "B13"), (0, 25, "Z1"), (0, 26, "AA1"), (1_048_575, 16_383, "XFD1048576")]
        {
            assert_eq!(a1(r, c), s);
            assert_eq!(parse_a1(s), Some((r, c)));
        }
        assert_eq!(parse_a1("$B$8"), Some((7, 1)));
        assert_eq!(parse_a1("B0"), None);
        assert_eq!(parse_a1("8"), None);
        assert_eq!(parse_a1("ABCD1"), None);
        assert_eq!(parse_a1("B-1"), None);
    }

    #[test]
    fn every_code_parses_back() {
        for c in Code::ALL {
            assert_eq!(Code::parse(c.as_str()), Some(*c));
        }
    }

    #[test]
    fn shorten_cuts_with_an_ellipsis() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "ab…");
        assert_eq!(shorten("äöüä", 4), "äöüä", "characters, not bytes");
        assert_eq!(shorten("äöüäö", 4), "äöü…");
        assert_eq!(shorten(&"x".repeat(32_700), MAX_QUOTED_CHARS).chars().count(), MAX_QUOTED_CHARS);
        assert_eq!(shorten("", 0), "");
    }

    #[test]
    fn swiss_thousands() {
        assert_eq!(swiss_int(0), "0");
        assert_eq!(swiss_int(999), "999");
        assert_eq!(swiss_int(1000), "1'000");
        assert_eq!(swiss_int(MAX_COUNT), "1'000'000");
    }

    #[test]
    fn paid_counts_never_wrap() {
        let big = PaidCounts { eg: u64::MAX - 211, d_eg: 0, ig: 0, d_ig: 0 };
        let small = PaidCounts { eg: 212, d_eg: 1, ig: 2, d_ig: 3 };
        assert_eq!(big.checked_add(&small), None, "u64::MAX - 211 + 212 overflows");
        let ok = PaidCounts { eg: u64::MAX - 212, ..big };
        assert_eq!(ok.checked_add(&small).map(|s| s.eg), Some(u64::MAX));
        assert_eq!(small.checked_add(&small), Some(PaidCounts { eg: 424, d_eg: 2, ig: 4, d_ig: 6 }));
    }

    #[test]
    fn validity_ends_are_inclusive() {
        let v = Validity::new(Some(ymd(2021, 1, 1)), Some(ymd(2023, 6, 30)));
        assert!(!v.contains(ymd(2020, 12, 31)));
        assert!(v.contains(ymd(2021, 1, 1)), "first day");
        assert!(v.contains(ymd(2023, 6, 30)), "last day");
        assert!(!v.contains(ymd(2023, 7, 1)));
        assert!(Validity::ALWAYS.contains(NaiveDate::MIN) && Validity::ALWAYS.contains(NaiveDate::MAX));
        assert!(!v.intersects_year(2020));
        assert!(v.intersects_year(2021) && v.intersects_year(2023));
        assert!(!v.intersects_year(2024));
        let later = Validity::new(Some(ymd(2023, 6, 30)), None);
        assert!(v.overlaps(&later) && later.overlaps(&v), "sharing one day");
        let after = Validity::new(Some(ymd(2023, 7, 1)), None);
        assert!(!v.overlaps(&after) && !after.overlaps(&v), "adjacent");
        let open_end = Validity::new(None, Some(ymd(2022, 12, 31)));
        assert!(open_end.intersects_year(1900) && open_end.intersects_year(2022) && !open_end.intersects_year(2023));
    }

    #[test]
    fn components_by_name() {
        let mut c = Components::<u64>::default();
        for (i, code) in PERIOD_COMPONENTS.into_iter().enumerate() {
            c.set(code, 10 + i as u64);
        }
        assert_eq!(c, Components { eg: 10, d_eg: 11, ig: 12, d_ig: 13 });
        assert_eq!(c.get(Component::DolmetschIg), 13);
        assert_eq!(c.values(), [10, 11, 12, 13]);
        let pairs: Vec<(Component, u64)> = c.iter().collect();
        assert_eq!(
            pairs,
            [
                (Component::FallEg, 10),
                (Component::DolmetschEg, 11),
                (Component::FallIg, 12),
                (Component::DolmetschIg, 13)
            ]
        );
    }

    #[test]
    fn components_map_to_their_tariff_and_count_field() {
        let expected = [
            (Component::FallEg, TariffCode::FallEg, CountField::EgAnzahl),
            (Component::DolmetschEg, TariffCode::DolmetschEg, CountField::EgDolmetsch),
            (Component::FallIg, TariffCode::FallIg, CountField::IgAnzahl),
            (Component::DolmetschIg, TariffCode::DolmetschIg, CountField::IgDolmetsch),
        ];
        for (c, t, f) in expected {
            assert_eq!((c.tariff(), c.count_field()), (t, f));
            assert_eq!(t.component(), Some(c));
            assert_eq!(f.paid_as(), Some(c));
        }
        assert_eq!(TariffCode::Sockel.component(), None);
        for f in [
            CountField::EgDolmetschAndere,
            CountField::EgPersonen,
            CountField::Infomappen,
            CountField::Neuzuzuege,
            CountField::Meldungen,
        ] {
            assert_eq!(f.paid_as(), None, "{f:?}");
        }
    }

    /// The severities and codes as the outputs spell them (OUTPUTS.md: column `Schwere`, `Code`).
    #[test]
    fn severities_and_codes_print_as_the_contract_spells_them() {
        let shown: Vec<String> = Severity::ALL.iter().map(|s| s.to_string()).collect();
        assert_eq!(shown, ["Fehler", "Warnung", "Hinweis"]);
        assert_eq!(Code::LeitSumme.to_string(), "LEIT_SUMME");
        assert_eq!(Code::parse("FRIST_VERPASST"), Some(Code::FristVerpasst));
        assert_eq!(Code::FristVerpasst.severity(), Severity::Warnung);
    }

    #[test]
    fn swiss_money_text() {
        assert_eq!(chf_text(Chf::new(rust_decimal::Decimal::new(63449300, 2))), "634'493.00");
        assert_eq!(chf_text(Chf::new(rust_decimal::Decimal::new(-2193500, 2))), "-21'935.00");
        assert_eq!(chf_text(Chf::new(rust_decimal::Decimal::new(-5, 2))), "-0.05");
        assert_eq!(chf_text(Chf::new(rust_decimal::Decimal::new(99999, 2))), "999.99");
        assert_eq!(chf_text(Chf::new(rust_decimal::Decimal::new(100000, 2))), "1'000.00");
        assert_eq!(chf_text(Chf::ZERO), "0.00");
    }

    /// Dates as Swiss documents write them: TT.MM.JJJJ with leading zeros.
    #[test]
    fn swiss_date_text() {
        assert_eq!(fmt_date(ymd(2023, 1, 5)), "05.01.2023");
        assert_eq!(fmt_date(ymd(2024, 12, 31)), "31.12.2024");
    }

    #[test]
    fn period_dates() {
        let p = Period::new(2023, 2);
        assert_eq!(p.last_day(), ymd(2023, 12, 31));
        assert_eq!(p.deadline(), ymd(2024, 1, 31));
        assert_eq!(Period::new(2023, 1).deadline(), ymd(2023, 7, 31));
        // Both halves: first day, last day, deadline (5.2) and payout date (4.5.2).
        let (h1, h2) = (Period::new(2023, 1), Period::new(2023, 2));
        assert_eq!((h1.first_day(), h1.last_day()), (ymd(2023, 1, 1), ymd(2023, 6, 30)));
        assert_eq!((h2.first_day(), h2.last_day()), (ymd(2023, 7, 1), ymd(2023, 12, 31)));
    }
}
