"""The demo shop's customers, orders and policy articles (package data), seeded by `shopdesk run`."""
