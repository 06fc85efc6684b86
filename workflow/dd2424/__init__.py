"""DD2424 labs reimplemented from scratch in NumPy.

Modules
-------
data       CIFAR-10 python-format batches: load, write, synthesise, normalise, split.
augment    On-the-fly flips, translations and photometric jitter of training mini-batches.
fetch      Download with checksum, retries and atomic rename.
nn         The one multi-layer network of labs 1-3 (a 1-layer net is the k=1 case): cross-entropy
           or SVM loss, batch norm before or after the ReLU, dropout.
experiments  Config-driven runs and gradient checks of the network.
ensembles  Majority and soft vote over several trained networks (seeds or cycle snapshots).
ablation   The bonus experiments as generated runs (ablation, architecture grid, CE vs SVM) and
           their tables.
range_test The learning-rate range test: a rising-eta run and the eta_min/eta_max it proposes.
gradcheck  Centred-difference numerical gradients over any dict of parameters.
schedules  Learning-rate schedules as pure functions of the update step.
train      Mini-batch gradient descent with evaluation history.
io         File helpers of the pipeline scripts (logging, JSON, parameters, tables).
search     Coarse-to-fine search over one run setting (lab 2's lambda search) and random search
           over several.
plots      Figures for the report (curves, class templates, search scores, ablation gains,
           range tests, depth x width).
text       Character corpora: UTF-8 reading, a sorted vocabulary, synthetic text.
rnn        The vanilla character RNN of lab 4: forward, BPTT, AdaGrad, sampling, resumable training.

Arrays are samples-as-rows (n x d, C order); randomness only through an explicit
``numpy.random.Generator``; nothing in this package imports Snakemake.
"""

__all__ = [
    "ablation",
    "augment",
    "data",
    "ensembles",
    "experiments",
    "fetch",
    "gradcheck",
    "io",
    "nn",
    "plots",
    "range_test",
    "rnn",
    "schedules",
    "search",
    "text",
    "train",
]
