"""DD2424 labs reimplemented from scratch in NumPy.

Modules
-------
data       CIFAR-10 python-format batches: load, write, synthesise, normalise, split.
fetch      Download with checksum, retries and atomic rename.
nn         The one multi-layer network of labs 1-3 (a 1-layer net is the k=1 case).
experiments  Config-driven runs and gradient checks of the network.
gradcheck  Centred-difference numerical gradients over any dict of parameters.
schedules  Learning-rate schedules as pure functions of the update step.
train      Mini-batch gradient descent with evaluation history.
io         File helpers of the pipeline scripts (logging, JSON, parameters, tables).
search     Coarse-to-fine search over one run setting (lab 2's lambda search).
plots      Figures for the report (curves, class templates, search scores).
text       Character corpora: UTF-8 reading, a sorted vocabulary, synthetic text.
rnn        The vanilla character RNN of lab 4: forward, BPTT, AdaGrad, sampling, resumable training.

Arrays are samples-as-rows (n x d, C order); randomness only through an explicit
``numpy.random.Generator``; nothing in this package imports Snakemake.
"""

__all__ = [
    "data",
    "experiments",
    "fetch",
    "gradcheck",
    "io",
    "nn",
    "plots",
    "rnn",
    "schedules",
    "search",
    "text",
    "train",
]
