from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")
