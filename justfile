# Convenience recipes; every one of them is a plain cargo command (see README).

# Run the sample year (samples/2023) and write out/2023
run *ARGS:
    cargo run --release -- run {{ARGS}}

# The test suite, as CI runs it
test:
    cargo test

# Formatting, lints and tests
check:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings
    cargo test

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

# Mutation testing of the rules (needs `cargo install cargo-mutants --locked`): mutates
# validate, compute, domain and values one change at a time and runs the fast tests that
# guard them. FILES narrows it (`just mutants src/values.rs`), TESTS picks the tests
# (`just mutants src/values.rs --lib`). One job at low priority; each mutant rebuilds the
# crate, so the four modules take hours on 2 cores. Results in mutants.out/.
mutants FILES="src/values.rs src/domain.rs src/compute.rs src/validate/*.rs" *TESTS="--lib --test boundaries --test codes --test money_rules":
    nice cargo mutants -j 1 --timeout 240 --build-timeout 900 $(for f in {{FILES}}; do printf -- '-f %s ' "$f"; done) -- {{TESTS}}
