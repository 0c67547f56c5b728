"""stylereel: GAN style transfer for film VFX, game scenes and ad work."""

__version__ = "0.1.0"

__all__ = ["Stylizer", "__version__"]


def __getattr__(name):
    # Lazy so `import stylereel` stays cheap for the CLI's --help.
    if name == "Stylizer":
        from stylereel.render.stylize import Stylizer

        return Stylizer
    raise AttributeError(name)
