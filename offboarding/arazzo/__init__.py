"""Playbooks as portable documents (issue 17): Arazzo 1.0 export and import.

`operations` is the alias table (portal operation ↔ official operationId), `export` writes a
playbook or a request's plan as a document, `importer` reads one into a custom playbook's steps,
`validation` checks the Arazzo 1.0 JSON Schema.
"""
