"""The categories a client message can have: shared by the rules schema, the classifiers and the summary."""

CATEGORIES = ("revision_request", "billing_issue", "progress_query", "other")
#: What the entity matcher finds (classifiers/entities.py), by the names rules.yaml's `entity` and
#: `entity_matches` conditions use.
ENTITIES = ("invoice_number", "po_number", "amount", "deadline", "job_ref", "urgency", "approval")
#: Not a category of its own: a message whose category is too uncertain to act on.
NEEDS_REVIEW = "needs_review"


def display_category(category: str, *, needs_review: bool) -> str:
    """The category a person is shown: needs_review when the classifier is too unsure to act on its answer.
    Worked out once by the pipeline and stored (messages.display_category); everything else reads it."""
    return NEEDS_REVIEW if needs_review else category
