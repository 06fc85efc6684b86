"""The data: where it comes from and how it is prepared.

cifar       CIFAR-10's python format: constants, the safe unpickler, batch reader and writer.
synthetic   Seeded synthetic images in that exact format (for offline runs and tests).
archive     The cifar-10-python.tar.gz archive: check it, extract its batches atomically.
splits      Training/validation/test splits, normalised with the training statistics.
augment     On-the-fly flips, translations and photometric jitter of training mini-batches.
fetch       Download (or copy) a file with checksum, retries and an atomic rename.
text        Character corpora: strict UTF-8 reading, the vocabulary, synthetic English-like text.
"""
