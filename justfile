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
    python3 ../shared/tools/check_corpus.py samples/2023
