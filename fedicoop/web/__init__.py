"""The web layer: ActivityPub routes, discovery, HTML pages and the JSON API."""
