"""Open data: what Sen publishes for reuse beyond its own portal.

Linked data (RDF: EDM, Dublin Core, schema.org), a DCAT catalogue with bulk
dumps, a SPARQL endpoint, CKAN publishing, OAI-PMH and IIIF Change Discovery.
Everything here is built from the catalogue and storage, and only from public
items: the access policy of :mod:`repository.access` decides.
"""
