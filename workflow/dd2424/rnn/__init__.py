"""Lab 4: the vanilla character-level RNN, with ``mlp``'s names for parallel things.

network     Forward pass and BPTT over mini-batches of sequences, scores, text loss.
optim       AdaGrad, RMSProp and Adam on one flat parameter buffer.
walks       How training reads the text: sequential, random windows, chunks; B lanes.
state       The whole state of a run (parameters, optimiser, hidden states, best model), one
            update, bit-identical save and resume.
trainer     The training loop in small named steps: windows, samples, records, validation.
settings    A run's settings against its text: validation split, walk pieces, checks that
            name the key, the run's walk and length.
runs        A run end to end: gradient checks, resumable training, its records and metrics.
model       The saved best model: reading it, passages, the sampling comparison.
sampling    Sampling with temperature and nucleus (top-p) cuts, and the sampling measures.
"""
