"""Infrastructure with no business rules: engine set-up and dialect helpers, the unit of work, the
schedulers' work queue, tree walks, the search index DDL, lazy package exports."""
