"""Training and evaluating the reader; nothing on the answering path imports it.

``loop.train_reader`` trains one reader from a ``config.TrainConfig``: ``data`` turns
SQuAD files into the reader's windows and batches (``augment`` adds shortened passages),
``schedule`` sets steps and learning rate, ``model`` loads the student, ``distill`` and
``layer_distill`` hold the teachers' losses, ``checkpoint`` saves and resumes, ``export``
writes the folder and ``card`` its model card. ``evaluate`` and ``latency`` score a
reader, ``squad`` holds the data split and the official metric, and ``cli`` the commands.
"""
