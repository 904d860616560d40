# Convenience recipes; every one of them is a plain cargo command (see README).

# Run the sample year (samples/2023) and write out/2023
run *ARGS:
    cargo run --release -- run {{ARGS}}

# The test suite, as CI runs it: with the test hooks (kills and holds inside a booking or a
# commit); plain `cargo test` runs everything else
test:
    cargo test --features synth,test-hooks

# Formatting, lints and tests
check:
    cargo fmt --check
    cargo clippy --workspace --all-targets --features synth,test-hooks -- -D warnings
    cargo test --features synth,test-hooks

# Compare the release binary's outputs with the corpus's expected/ (needs python3 + openpyxl)
corpus:
    cargo build --release
    python3 tools/check_corpus.py samples/2023

# Benchmarks: per-file read + validation, whole runs (sample year and a generated inbox of
# 10,000 forms), plain calamine for comparison, then a report with the README's figures
bench *ARGS:
    cargo bench --features synth --bench pipeline {{ARGS}}

# A synthetic inbox with matching master data (the bench's generator), e.g.
# `just generieren --formulare 10000 --ziel out/synth`
generieren *ARGS:
    cargo run --release --features synth --example generieren -- {{ARGS}}

# Fuzz the form reader + extractor + validation (needs `cargo install cargo-fuzz`); seeds
# come from the sample inbox. SECONDS defaults to 660.
fuzz SECONDS="660":
    mkdir -p fuzz/corpus/read_form
    cp samples/2023/inbox/*.xls samples/2023/inbox/*.ods samples/2023/inbox/*.xlsx samples/2023/inbox/*.xlsm fuzz/corpus/read_form/
    cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O read_form corpus/read_form -- -max_total_time={{SECONDS}} -rss_limit_mb=1024 -max_len=262144 -timeout=20

# Fuzz our own xlsx reader on the parts' XML inside a well-formed zip (seeds: the parts of
# the sample year's xlsx files, joined by NUL bytes).
fuzz-xlsx SECONDS="660":
    python3 fuzz/seeds_xlsx_parts.py
    cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O xlsx_parts corpus/xlsx_parts -- -max_total_time={{SECONDS}} -rss_limit_mb=1024 -max_len=262144 -timeout=20

# Mutation testing of the rules and the money (needs `cargo install cargo-mutants --locked`):
# mutates validate, resolve, compute, domain, values, the payout rule (payout), the ledger and
# the invoice one change at a time and runs the fast tests that guard them; only those test
# targets are built (`-C`), without debug info, in place (incremental: about 20 s a mutant on
# an idle 2-core machine). FILES narrows it (`just mutants crates/sheets/src/values.rs`), TESTS picks the
# test targets (`just mutants crates/core/src/payout.rs --lib`). Then `just mutants-survivors` runs what
# survived against the slower tests that read whole years. A mutant that fails a proptest
# leaves no regression file (PROPTEST_DISABLE_FAILURE_PERSISTENCE). Results in mutants.out/;
# see docs/mutation.md.
mutants FILES="crates/sheets/src/values.rs crates/core/src/domain.rs crates/core/src/compute.rs crates/core/src/resolve.rs crates/core/src/validate/mod.rs crates/core/src/validate/report.rs crates/core/src/validate/sd.rs crates/core/src/payout.rs crates/ledger/src/lib.rs crates/render/src/documents/invoice.rs" *TESTS="--lib --test=it":
    CARGO_PROFILE_DEV_DEBUG=0 PROPTEST_DISABLE_FAILURE_PERSISTENCE=1 nice cargo mutants --in-place --test-workspace=true --timeout 240 --build-timeout 900 $(for f in {{FILES}}; do printf -- '-f %s ' "$f"; done) $(for t in {{TESTS}}; do printf -- '-C %s ' "$t"; done)

# The second pass: the mutants that survived `just mutants` (mutants.out/), against the
# tests that read the sample year and write its outputs.
mutants-survivors FILES="crates/sheets/src/values.rs crates/core/src/domain.rs crates/core/src/compute.rs crates/core/src/resolve.rs crates/core/src/validate/mod.rs crates/core/src/validate/report.rs crates/core/src/validate/sd.rs crates/core/src/payout.rs crates/ledger/src/lib.rs crates/render/src/documents/invoice.rs":
    CARGO_PROFILE_DEV_DEBUG=0 PROPTEST_DISABLE_FAILURE_PERSISTENCE=1 nice cargo mutants --in-place --iterate --timeout 400 --build-timeout 900 $(for f in {{FILES}}; do printf -- '-f %s ' "$f"; done) --test-workspace=true -C --lib -C --test=it

# The packages for the staff: dist/beitraege-<version>-windows-x86_64.zip (beitraege.exe,
# Handbuch.html, an empty beitraege.toml, licences, the sample year) and the Linux tarball.
# Needs `rustup target add x86_64-pc-windows-gnu`, gcc-mingw-w64-x86-64, pandoc, zip.
dist:
    bash tools/dist.sh

# The Windows build under Wine against the Linux build (needs wine); CI runs it.
wine-check:
    bash tools/wine-check.sh
