"""DD2424 labs reimplemented from scratch in NumPy.

Modules
-------
data       CIFAR-10 python-format batches: load, write, synthesise, normalise, split.
fetch      Download with checksum, retries and atomic rename.
nn         The one multi-layer network of labs 1-3 (a 1-layer net is the k=1 case).
gradcheck  Centred-difference numerical gradients over any dict of parameters.
schedules  Learning-rate schedules as pure functions of the update step.
train      Mini-batch gradient descent with evaluation history.
plots      Figures for the report (curves, class templates).

Arrays are samples-as-rows (n x d, C order); randomness only through an explicit
``numpy.random.Generator``; nothing in this package imports Snakemake.
"""

__all__ = ["data", "fetch", "gradcheck", "nn", "plots", "schedules", "train"]
