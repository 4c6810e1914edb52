# Text stages: segment -> clean -> vocab -> pairs (to be written).
