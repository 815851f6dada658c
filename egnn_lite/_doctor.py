"""egnn_lite.doctor(): placeholder, being written."""


def doctor():
    raise NotImplementedError
