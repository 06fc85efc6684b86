"""DD2424 labs reimplemented from scratch in NumPy.

Subpackages, one concern each:

data/       Where the data comes from and how it is prepared: CIFAR-10's python format and
            its safe unpickler, synthetic images, the archive, splits, augmentation,
            downloads, text corpora.
mlp/        Labs 1-3: the multi-layer network, its losses, trainer, runs, ensembles, range
            test and the bonus experiments.
rnn/        Lab 4: the character RNN, its optimisers, walks through the text, trainer,
            sampling and runs (parallel names to ``mlp``: network, trainer, runs).
report/     Figures and the headline summary.

Shared modules:

activations Softmax and log-softmax.
gradcheck   Centred-difference numerical gradients over any dict of parameters.
io          File helpers of the pipeline scripts (logging, JSON, arrays, tables, provenance).
nested      Nested settings: deep merge, dotted paths.
schedules   Learning-rate schedules as pure functions of the update step.
search      Coarse-to-fine and random search over run settings: grids, draws, ranking.

Arrays are samples-as-rows (n x d, C order); randomness only through an explicit
``numpy.random.Generator``; nothing in this package imports Snakemake.
"""
