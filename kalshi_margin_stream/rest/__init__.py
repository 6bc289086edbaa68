"""The margin REST API: typed models, the async client, and the Klear (SCM) client."""
