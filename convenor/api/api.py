from ninja import NinjaAPI

api = NinjaAPI(title="Convenor API", version="1", urls_namespace="api")
