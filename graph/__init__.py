"""Everything that talks to Neo4j: the driver, one repository per aggregate, migrations and
the local database launcher. Cypher lives here and nowhere else."""
