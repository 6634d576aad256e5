"""The categories a client message can have: shared by the rules schema, the classifiers and the summary."""

CATEGORIES = ("revision_request", "billing_issue", "progress_query", "other")
#: Not a category of its own: a message whose category is too uncertain to act on.
NEEDS_REVIEW = "needs_review"
