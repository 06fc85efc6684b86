"""Labs 1-3: the multi-layer network (a one-layer softmax classifier is the k = 1 case).

network     Forward/backward with caches: ReLU layers, batch norm before or after the ReLU,
            dropout; parameters as a dict of arrays.
batchnorm   Batch normalisation: training and test mode, backward, moving averages.
losses      Cross-entropy and multi-class SVM losses, accuracy.
trainer     Mini-batch gradient descent in small named steps (``Solver``), with its history.
runs        A run's settings -> network, schedule and loop; one run end to end, its metrics;
            gradient checks.
ensembles   Majority and soft vote over several trained networks (seeds or cycle snapshots).
range_test  The learning-rate range test and the cyclic bounds it proposes.
ablation    The bonus experiments as generated runs (ablation, architecture grid, CE vs SVM)
            and their tables.
"""
