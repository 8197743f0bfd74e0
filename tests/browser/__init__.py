"""Browser tests of the HTML edition (`make test-html`); a package, so that its module names
do not clash with those of tests/unit."""
