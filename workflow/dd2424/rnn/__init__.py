"""Lab 4: the vanilla character-level RNN, mirrored on labs 1-3's ``mlp`` package.

network     Forward pass and BPTT over mini-batches of sequences, scores, text loss.
optim       AdaGrad, RMSProp and Adam on one flat parameter buffer.
walks       How training reads the text: sequential, random windows, chunks; B sequences.
trainer     The training loop (one update, evaluation, checkpoint) with its history.
sampling    Sampling with temperature and nucleus (top-p) cuts, and the sampling measures.
runs        A run's settings end to end: resumable training, the saved model, passages.
"""
