"""Knowledge base of 智办: 办事指南 and policies, hybrid retrieval with citations."""
