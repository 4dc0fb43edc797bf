"""Import TensorFlow and Keras quietly.

TensorFlow 2.20+ logs through Abseil before its log settings are read, so
``TF_CPP_MIN_LOG_LEVEL`` alone no longer hides the start-up chatter (oneDNN notices,
"could not find cuda drivers", CPU-feature hints, cuInit failures on machines without a
GPU). We set the variable for everything that comes later, and while TensorFlow loads
and looks for devices we route the process's stderr (file descriptor 2, where C++ writes)
to a temporary file: C++ log lines are kept for :func:`import_log`, anything else
(Python warnings, fatal errors) is passed on. ``TF_CPP_MIN_LOG_LEVEL=0`` set by the user
turns the filtering off.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Abseil / glog lines: severity letter, MMDD, time; plus Abseil's pre-init banner and the
# continuation line of TensorFlow's CPU-feature notice.
_CPP_LOG = re.compile(
    r"^([IWE]\d{4} \d\d:\d\d:\d+\.\d+ |WARNING: All log messages before "
    r"absl::InitializeLog|To enable the following instructions:)"
)
_captured: list[str] = []


def import_log() -> str:
    """The C++ log lines TensorFlow printed while loading (hidden from the console)."""
    return "".join(_captured)


def _load():
    if "tensorflow" in sys.modules or os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0":
        import keras
        import tensorflow as tf

        return tf, keras
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import keras
            import tensorflow as tf

            tf.config.list_physical_devices()  # device discovery logs here, once
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            for line in text.splitlines(keepends=True):
                if _CPP_LOG.match(line):
                    _captured.append(line)
                else:
                    sys.stderr.write(line)
    tf.get_logger().setLevel("ERROR")
    return tf, keras


tf, keras = _load()
