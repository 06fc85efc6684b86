"""DD2424 labs reimplemented from scratch in NumPy.

Subpackages, one concern each:

data/       Where the data comes from and how it is prepared: CIFAR-10's python format and
            its safe unpickler, synthetic images, the archive, splits, augmentation,
            downloads, text corpora.
mlp/        Labs 1-3: the multi-layer network, its losses, trainer, runs, ensembles, range
            test and the bonus experiments.
rnn/        Lab 4: the character RNN, its optimisers, walks through the text, trainer,
            sampling and runs (parallel names to ``mlp``: network, trainer, runs).
plan/       What the config plans, without Snakemake: runs, trials, paths, targets, checks.
report/     Figures, tables and the headline summary.

Shared modules:

activations Softmax and log-softmax.
clock       Timing lines in a job's log: seconds since its process started.
gradcheck   Centred-difference numerical gradients over any dict of parameters.
io          File helpers of the pipeline scripts (logging, JSON, arrays, digests, records,
            tables, provenance).
nested      Nested settings: deep merge, dotted paths.
npz         Named arrays in an .npz that processes memory-map and share.
ranking     Ranking a search's trials: ties broken and reported, edges flagged.
schedules   Learning-rate schedules as pure functions of the update step.
search      Coarse-to-fine and random search over run settings: grids, draws, ranked tables.
trials      One trial as its job reads it: its values from a grid row, applied to settings.

Arrays are samples-as-rows (n x d, C order); randomness only through an explicit
``numpy.random.Generator``; nothing in this package imports Snakemake.
"""
