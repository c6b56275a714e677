from .files import ModelFile
from .packs import DEFAULT_PACK, Components, Pack, available_packs, get_pack, register_pack

__all__ = ["DEFAULT_PACK", "Components", "ModelFile", "Pack", "available_packs", "get_pack", "register_pack"]
