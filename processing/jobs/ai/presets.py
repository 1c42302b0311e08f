"""Ready endpoint defaults an AI_ENDPOINTS entry names with "preset": a prompt, a system text and
the JSON Schema of the answer. The entry's own keys, then the job's params, take precedence."""

LABEL_ANALYSIS_SCHEMA = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "description": "The product category, e.g. 'cosmetics', 'food supplement'."},
        "marketplaces": {
            "type": "array",
            "description": "One entry per marketplace the label was checked against.",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The marketplace, e.g. 'Amazon EU'."},
                    "compliant": {"type": "boolean"},
                    "findings": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "What is missing or not allowed on the label for this marketplace.",
                    },
                },
                "required": ["name", "compliant", "findings"],
            },
        },
        "extracted_text": {"type": "string", "description": "All the text printed on the label."},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["category", "marketplaces", "extracted_text", "confidence"],
}

LABEL_ANALYSIS = {
    "system": (
        "You check product label photos for online marketplaces. Answer only from what the photo shows; "
        "say what you cannot read in the findings and lower the confidence."
    ),
    "prompt": (
        "Analyse this product label: its category, whether it complies with the labelling rules of the "
        "marketplaces Amazon EU, eBay and Etsy (each with the findings), all the text on it, and your confidence."
    ),
    "schema": LABEL_ANALYSIS_SCHEMA,
}

PRESETS = {"label_analysis": LABEL_ANALYSIS}
