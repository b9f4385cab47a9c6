"""What the ingest pool's fork server loads once, so that no worker it forks pays for it again.

Besides the pipeline's imports: dateparser compiles its word-splitting patterns for every locale the first time
it meets a date string it cannot place, which htmldate's last-resort date search does on most pages without a
declared date. That costs about 2 s of CPU, once per process; done here, every worker inherits the result.
"""

from __future__ import annotations

import gc

import trafilatura  # noqa: F401
from dateparser import DateDataParser

import ingest.pipeline  # noqa: F401
import ingest.workers  # noqa: F401

DateDataParser(languages=None, locales=None, region=None).get_date_data("no locale has these words")

# All of the above lives as long as the workers do: frozen, the collector never walks it again in a worker (a few
# per cent of extraction time, which makes many short-lived objects), and forked workers keep sharing its pages.
gc.freeze()
