"""``python -m ntkutils`` is ``ntk-repro`` (see ``ntkutils.cli``)."""

from .cli import main

raise SystemExit(main())
