"""Find, check and execute the notebooks; report their claims. Used by ``ntkutils.cli``
(``ntk-repro list | run | report | html``); no other module of the package imports it.

One job per module, the names re-exported here:

* ``discovery``: the notebooks and what each declares (title, paper, claims, the knobs of its
  ``parameters`` cell); ``resolve_names`` maps ``01`` / ``1`` / ``01_name`` / ``name`` to them.
* ``parameters``: knob types and allowed values, checked by the package's own checks before
  any kernel starts (``plan_overrides``).
* ``execution``: ``run_notebooks``, papermill in this process.
* ``report``: the summary after a run, the exit code, the README table and verdict line.
* ``html_edition``: the stored notebooks and an index page as static HTML that opens offline.
"""

from .discovery import (NOTEBOOKS_ENV, NotebookInfo, default_notebooks_dir, discover,
                        parse_parameters_cell, resolve_names)
from .execution import (KERNEL_NAME, QUIET_ENV, Destinations, RunError, RunResult, destinations,
                        run_notebooks)
from .html_edition import HtmlEdition, build_html_edition, default_html_dir
from .parameters import (ParameterSpec, check_parameter_value, check_type, check_value,
                         parse_parameter_overrides, parse_type, plan_overrides,
                         resolve_run_profile)
from .report import (README_END, README_START, VERDICT_END, VERDICT_START, exit_code,
                     provenance_table, readme_table, readme_verdict, summary_table, update_readme)

__all__ = [
    # discovery
    "NOTEBOOKS_ENV", "NotebookInfo", "default_notebooks_dir", "discover", "parse_parameters_cell",
    "resolve_names",
    # html_edition
    "HtmlEdition", "build_html_edition", "default_html_dir",
    # parameters
    "ParameterSpec", "check_parameter_value", "check_type", "check_value",
    "parse_parameter_overrides", "parse_type", "plan_overrides", "resolve_run_profile",
    # execution
    "KERNEL_NAME", "QUIET_ENV", "Destinations", "RunError", "RunResult", "destinations",
    "run_notebooks",
    # report
    "README_END", "README_START", "VERDICT_END", "VERDICT_START", "exit_code",
    "provenance_table", "readme_table",
    "readme_verdict", "summary_table", "update_readme",
]
