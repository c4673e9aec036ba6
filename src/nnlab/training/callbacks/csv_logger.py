"""CSVLogger: one row of logs per epoch in a CSV file."""

import csv
import os

from nnlab.training.callbacks.base import Callback, as_number


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file, flushed every epoch.

    The columns are 'epoch' and the first epoch's log keys, sorted (as Keras); a key missing
    later is written 'NA'. When appending to a file that already has a header, its columns
    are kept, so the rows stay aligned.

    Args:
        filename: the CSV file.
        separator: the column separator.
        append: add to an existing file instead of overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = None
        self._file = self._writer = None

    def on_train_begin(self, logs=None):
        self.keys = self._existing_keys() if self.append else None
        self._write_header = self.keys is None
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, delimiter=self.sep)

    def _existing_keys(self):
        if not os.path.exists(self.filename):
            return None
        with open(self.filename, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f, delimiter=self.sep), None)
        return header[1:] if header else None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self._write_header:
            self._writer.writerow(["epoch", *self.keys])
            self._write_header = False
        self._writer.writerow([epoch, *(as_number(logs.get(k, "NA")) for k in self.keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None
